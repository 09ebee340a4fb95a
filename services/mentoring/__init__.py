"""The mentoring service: programmes, enrolments, matching, pairs, sessions and meetings."""
