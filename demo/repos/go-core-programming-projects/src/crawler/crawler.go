package crawler

import (
	"fmt"
	"io/ioutil"
	"net/http"
)

// Fetch downloads a page. Put this project under $GOPATH/src/crawler first.
func Fetch(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, err := ioutil.ReadAll(resp.Body)
	if err != nil {
		panic(fmt.Errorf("read body: %v", err))
	}
	return string(body)
}

// Crawl fetches every URL concurrently and prints the sizes.
func Crawl(urls []string) {
	for _, u := range urls {
		go func(u string) {
			fmt.Println(u, len(Fetch(u)))
		}(u)
	}
}
