
    SELECT url, error_rate FROM daily_url_error_rates
    WHERE error_rate < 0 OR error_rate > 1
  