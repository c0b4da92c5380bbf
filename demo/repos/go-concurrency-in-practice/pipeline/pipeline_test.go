package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestSquare(t *testing.T) {
	in := make(chan int, 3)
	in <- 1
	in <- 2
	in <- 3
	close(in)
	sum := 0
	for n := range Square(context.Background(), in) {
		sum += n
	}
	if sum != 14 {
		t.Fatalf("sum = %d", sum)
	}
}

func TestFirstOrTimeoutGivesUp(t *testing.T) {
	if _, ok := FirstOrTimeout(make(chan int), 10*time.Millisecond); ok {
		t.Fatal("want a timeout")
	}
}

func FuzzSquare(f *testing.F) {
	f.Add(3)
	f.Fuzz(func(t *testing.T, n int) {
		in := make(chan int, 1)
		in <- n
		close(in)
		if got := <-Square(context.Background(), in); got != n*n {
			t.Fatalf("%d² = %d", n, got)
		}
	})
}

func ExampleFirstOrTimeout() {
	in := make(chan int, 1)
	in <- 7
	fmt.Println(FirstOrTimeout(in, time.Second))
	// Output: 7 true
}
