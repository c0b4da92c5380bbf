package crawler

import "errors"

var results = make(chan string)

// Save stores one page; it panics when the page is empty.
func Save(page string) error {
	if page == "" {
		return errors.New("empty page")
	}
	go func() { results <- page }()
	return nil
}
