"""The user's own mailbox: watching it over IMAP for sent thank-yous and replies, and sending
follow-ups through its SMTP server."""
