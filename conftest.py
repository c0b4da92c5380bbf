import os

os.environ.setdefault("COURSELENS_DEV", "1")
