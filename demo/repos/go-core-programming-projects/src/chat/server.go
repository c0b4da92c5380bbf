package main

import (
	"bufio"
	"fmt"
	"net"
)

var clients = map[net.Conn]bool{}

func main() {
	ln, err := net.Listen("tcp", ":8000")
	if err != nil {
		panic(err)
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			fmt.Println(err)
			continue
		}
		clients[conn] = true
		go handle(conn)
	}
}

func handle(conn net.Conn) {
	scanner := bufio.NewScanner(conn)
	for scanner.Scan() {
		for c := range clients {
			fmt.Fprintln(c, scanner.Text())
		}
	}
}
