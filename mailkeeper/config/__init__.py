"""The rep's files, read and validated with file:line: `settings` (mailkeeper.yaml: accounts,
daemon, working hours), `rules` (customers, tiers, issue phrases), `orders_rules`, the YAML
reader they share (`yamlreader`), the shipped defaults (`defaults`) and secrets (`secrets`)."""
