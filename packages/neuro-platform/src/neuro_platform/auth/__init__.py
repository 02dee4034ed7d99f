"""Users, passwords, access tokens and the OAuth2 authorization-code flow."""
