"""Admin commands: parsing is journeys/admin/commands.py; these run them."""
