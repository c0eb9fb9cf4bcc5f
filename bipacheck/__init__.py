"""bipacheck: audit photo collections for biometric-privacy (BIPA) compliance."""

__version__ = "0.1.0"
