// Command crawl fetches the URLs given as arguments, four at a time, within ten seconds.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/chenmo-go/concurrency-in-practice/fetch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pages, err := fetch.All(ctx, os.Args[1:], 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i, page := range pages {
		fmt.Println(os.Args[i+1], len(page))
	}
}
