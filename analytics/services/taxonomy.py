"""The failure-signal taxonomy staff curate: shipped seed definitions, rename, confirm, dismiss, promote,
merge."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import (
    SignalCluster,
    SignalDefinition,
)
from analytics.signals import seed_phrases
from analytics.text import get_segmenter

SIGNAL_SEEDS_PATH = Path(__file__).resolve().parent.parent / "data" / "seeds.json"


def seed_signal_definitions() -> int:
    """Create the shipped failure signals (analytics/data/seeds.json) that do not exist yet.

    Idempotent. Definitions that exist are left as admins edited them (names, terms, status); a seeded
    definition whose seed terms were emptied gets the shipped ones back, one from before seeds had a
    scope gets the shipped scope, and one without a "how to check" hint (Chinese or English) gets the
    shipped hint. Returns how many were created.
    """
    created = 0
    for seed in json.loads(SIGNAL_SEEDS_PATH.read_text(encoding="utf-8")):
        definition, was_created = SignalDefinition.objects.get_or_create(
            key=seed["key"],
            defaults={
                "name_zh": seed["name_zh"],
                "name_en": seed["name_en"],
                "description": seed["description"],
                "description_en": seed.get("description_en", ""),
                "check_hint": seed.get("check_hint", ""),
                "check_hint_en": seed.get("check_hint_en", ""),
                "seed_terms": seed["seed_terms"],
                "scope_tags": seed.get("scope_tags", []),
                "status": SignalDefinition.Status.SEEDED,
            },
        )
        created += was_created
        if not was_created and not definition.scope_tags and seed.get("scope_tags"):
            definition.scope_tags = seed["scope_tags"]
            definition.save(update_fields=["scope_tags", "updated_at"])
        if (
            not was_created
            and not definition.seed_terms
            and definition.status == SignalDefinition.Status.SEEDED
        ):
            definition.seed_terms = seed["seed_terms"]
            definition.save(update_fields=["seed_terms", "updated_at"])
        if not was_created:
            for hint_field in ("check_hint", "check_hint_en"):
                if not getattr(definition, hint_field) and seed.get(hint_field):
                    setattr(definition, hint_field, seed[hint_field])
                    definition.save(update_fields=[hint_field, "updated_at"])
    return created


def _clean_names(*, name_zh: str, name_en: str, description: str, description_en: str = "") -> dict[str, str]:
    cleaned = {
        "name_zh": (name_zh or "").strip(),
        "name_en": (name_en or "").strip(),
        "description": description,
        "description_en": (description_en or "").strip(),
    }
    errors = {}
    if not cleaned["name_zh"]:
        errors["name_zh"] = [_("Give the signal a Chinese name.")]
    elif len(cleaned["name_zh"]) > 120:
        errors["name_zh"] = [_("At most 120 characters.")]
    if len(cleaned["name_en"]) > 120:
        errors["name_en"] = [_("At most 120 characters.")]
    if errors:
        raise ValidationError(errors)
    cleaned["description"] = (description or "").strip()
    return cleaned


def signal_rename(
    *,
    definition: SignalDefinition,
    name_zh: str,
    name_en: str = "",
    description: str = "",
    description_en: str = "",
) -> SignalDefinition:
    """Rename a signal (Chinese name required) and update its descriptions."""
    cleaned = _clean_names(
        name_zh=name_zh, name_en=name_en, description=description, description_en=description_en
    )
    for field_name, value in cleaned.items():
        setattr(definition, field_name, value)
    definition.save(update_fields=[*cleaned, "updated_at"])
    return definition


MAX_SEED_TERMS = 200
MAX_TERM_LENGTH = 60


def signal_edit_terms(
    *, definition: SignalDefinition, seed_terms: list[str], scope_tags: list[str]
) -> SignalDefinition:
    """Replace a signal's seed terms and scope (course tags; empty: every course).

    A term must keep a word of two or more characters once segmented ("没做过" keeps only "没", which
    would match almost any complaint); such terms are refused by name, and nothing is saved. A seeded or
    confirmed signal needs at least one term, since it assigns reviews by them from the next run on.
    """
    terms = list(dict.fromkeys(term.strip() for term in seed_terms if term.strip()))
    tags = list(dict.fromkeys(tag.strip() for tag in scope_tags if tag.strip()))
    errors: list[str] = []
    if len(terms) > MAX_SEED_TERMS:
        errors.append(_("At most %(count)d seed terms.") % {"count": MAX_SEED_TERMS})
    too_long = [term for term in terms if len(term) > MAX_TERM_LENGTH]
    if too_long:
        errors.append(
            _("Terms longer than %(count)d characters: %(terms)s")
            % {"count": MAX_TERM_LENGTH, "terms": "、".join(too_long[:5])}
        )
    segmenter = get_segmenter()
    vague = [term for term in terms if not seed_phrases([term], segmenter.tokens)]
    if vague:
        errors.append(
            _("These terms would match almost any complaint: %(terms)s") % {"terms": "、".join(vague[:10])}
        )
    if not terms and definition.status in (SignalDefinition.Status.SEEDED, SignalDefinition.Status.CONFIRMED):
        errors.append(_("A seeded or confirmed signal needs at least one seed term."))
    if errors:
        raise ValidationError({"seed_terms": errors})
    definition.seed_terms = terms
    definition.scope_tags = tags
    definition.save(update_fields=["seed_terms", "scope_tags", "updated_at"])
    return definition


def signal_confirm(*, definition: SignalDefinition) -> SignalDefinition:
    """Confirm a signal: it is shown publicly and, from the next run on, guides the assignment."""
    if definition.merged_into_id:
        raise ValidationError(_("This signal is merged into another one; confirm that one instead."))
    if not definition.seed_terms:
        definition.seed_terms = _current_keywords(definition)
    definition.status = SignalDefinition.Status.CONFIRMED
    definition.save(update_fields=["status", "seed_terms", "updated_at"])
    return definition


def signal_dismiss(*, definition: SignalDefinition) -> SignalDefinition:
    """Dismiss a signal: hidden from public pages and no longer used to assign reviews."""
    definition.status = SignalDefinition.Status.DISMISSED
    definition.save(update_fields=["status", "updated_at"])
    return definition


def signal_promote(
    *,
    definition: SignalDefinition,
    name_zh: str,
    name_en: str = "",
    description: str = "",
    description_en: str = "",
) -> SignalDefinition:
    """Turn a discovered candidate into a confirmed signal with a proper name; its current keywords become
    its seed terms, so the next run assigns reviews to it like to the shipped ones."""
    if definition.status != SignalDefinition.Status.DISCOVERED:
        raise ValidationError(_("Only a discovered candidate can be promoted."))
    if definition.merged_into_id:
        raise ValidationError(_("This signal is merged into another one; promote that one instead."))
    cleaned = _clean_names(
        name_zh=name_zh, name_en=name_en, description=description, description_en=description_en
    )
    with transaction.atomic():
        for field_name, value in cleaned.items():
            setattr(definition, field_name, value)
        keywords = _current_keywords(definition)
        if keywords:
            definition.seed_terms = keywords
        definition.status = SignalDefinition.Status.CONFIRMED
        definition.save()
    return definition


def signal_merge(*, definition: SignalDefinition, into: SignalDefinition) -> SignalDefinition:
    """Merge a signal into another: its reviews count as the other's, and its terms join the other's."""
    if into.pk == definition.pk:
        raise ValidationError({"into": [_("A signal cannot be merged into itself.")]})
    if into.merged_into_id:
        raise ValidationError({"into": [_("That signal is itself merged into another one.")]})
    if into.status == SignalDefinition.Status.DISMISSED:
        raise ValidationError({"into": [_("A dismissed signal cannot take others in.")]})
    with transaction.atomic():
        SignalDefinition.objects.filter(merged_into=definition).update(
            merged_into=into, updated_at=timezone.now()
        )
        definition.merged_into = into
        definition.save(update_fields=["merged_into", "updated_at"])
    return definition


# A promoted candidate keeps the keywords that weigh at least this share of its top keyword: the words that
# describe it, not the tail that happened to co-occur.
DESCRIBING_WEIGHT = 0.4


def _current_keywords(definition: SignalDefinition, limit: int = 10) -> list[str]:
    cluster = SignalCluster.objects.filter(run__is_current=True, definition=definition).first()
    if cluster is None:
        return list(definition.seed_terms or [])
    return [str(term) for term, weight in cluster.keywords[:limit] if float(weight) >= DESCRIBING_WEIGHT]
