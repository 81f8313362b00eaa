package smtpmail_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx/internal/smtpmail"
)

// relay is the smallest SMTP server that accepts one message and returns
// what it was sent.
func relay(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		say := func(s string) { c.Write([]byte(s + "\r\n")) }
		say("220 test ESMTP")
		var data strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 test")
			case strings.HasPrefix(cmd, "DATA"):
				say("354 go on")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				say("250 queued")
				out <- data.String()
			case strings.HasPrefix(cmd, "QUIT"):
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), out
}

func TestSend(t *testing.T) {
	addr, got := relay(t)
	m := &smtpmail.Mailer{Addr: addr, From: "obx@center.example"}
	if err := m.Send(context.Background(), "kim@fin.example", "비밀번호 재설정", "Open this link:\nhttps://obx.example/portal/reset?token=x"); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"To: kim@fin.example\r\n", "Subject: =?utf-8?q?", "https://obx.example/portal/reset?token=x\r\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if err := m.Send(context.Background(), "kim@fin.example\r\nBcc: x@evil.example", "s", "b"); err == nil {
		t.Error("header injection accepted")
	}
}
