"""Encrypted backups of the clinic (database, stored files, manifest) and their restore."""
