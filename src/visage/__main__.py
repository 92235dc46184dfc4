from visage.cli import app

app()
