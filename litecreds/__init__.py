"""litecreds: a self-hosted store for LLM provider credentials."""
