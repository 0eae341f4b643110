"""The HTML report: stance timelines per actor, the stance table, alerts and feed health."""
