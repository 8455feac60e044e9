"""The application: the composition root, the web app, the command line, settings."""
