"""The `vaekit` command line: one small module per subcommand, no tensor math here."""
