
    SELECT * FROM daily_url_errors WHERE errors < 1
  