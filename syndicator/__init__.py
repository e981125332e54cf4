"""Syndicator: press releases on transnational threats, by topic, as feeds and emails."""

__version__ = "0.1.0"
