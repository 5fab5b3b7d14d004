"""The user's own mailbox: IMAP to watch what was sent and who replied, SMTP to send drafts."""
