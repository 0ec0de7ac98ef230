"""Mailbox adapters: the only code that touches IMAP or mail folders on disk."""
