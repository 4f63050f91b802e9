"""Provider integrations: the channel contract (``base``), the registry, and one package per provider."""
