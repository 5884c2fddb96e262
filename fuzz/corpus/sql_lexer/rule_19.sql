
    SELECT * FROM daily_urls WHERE hits <= 0
  