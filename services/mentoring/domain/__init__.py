"""The mentoring programme's rules, free of Flask and kombu."""
