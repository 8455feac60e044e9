"""Microsoft Teams adapter (botbuilder `CloudAdapter`); all Bot Framework imports live here.

render.py (Message -> Adaptive Card 1.5), parse.py (activity -> neutral), client.py (`TeamsChat`,
the outbound ChatPort), app.py (`mount_teams`, POST /api/messages), package.py (app package).
"""
