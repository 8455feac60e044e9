"""The ports the core is reached through: the chat port every platform adapter implements."""
