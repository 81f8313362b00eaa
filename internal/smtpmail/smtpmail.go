// Package smtpmail sends the hub's few emails (password-reset links)
// through an SMTP relay with net/smtp: STARTTLS when the server offers it,
// PLAIN authentication when a user is configured (net/smtp refuses to send
// credentials over an unencrypted connection to a remote host).
package smtpmail

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// Mailer sends mail through one relay.
type Mailer struct {
	Addr     string // host:port of the relay
	From     string // envelope and header sender
	User     string // empty: no authentication
	Password string
}

// Send sends a plain-text message to one recipient. It refuses header
// injection through the recipient or the subject.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	if strings.ContainsAny(to+subject+m.From, "\r\n") {
		return fmt.Errorf("smtpmail: line break in a header")
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtpmail: relay address: %w", err)
	}
	var auth smtp.Auth
	if m.User != "" {
		auth = smtp.PlainAuth("", m.User, m.Password, host)
	}
	msg := "From: " + m.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(m.Addr, auth, m.From, []string{to}, []byte(msg)) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("smtpmail: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
