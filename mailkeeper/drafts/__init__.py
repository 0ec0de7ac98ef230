"""Findings -> drafts: `compose` renders RFC 5322 drafts from sandboxed Jinja2 templates;
`publish` is the only code that writes to a mailbox, and all it ever writes is a new draft."""
