"""Bytes -> Message: `message` (headers, addresses, the stored row's fields), `mime` (the MIME
walk and the text-section choice), `charsets`, `textclean` (html to text, quotes, language) and
`rows` (a parsed message as the store's rows)."""
