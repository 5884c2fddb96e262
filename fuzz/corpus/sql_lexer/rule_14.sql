
    SELECT url, count(*) AS hits
    FROM daily_logs
    GROUP BY url
  