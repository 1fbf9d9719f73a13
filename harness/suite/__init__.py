"""Suite files: schema, YAML loading with source locations, source importers, expansion into cases."""
