
    SELECT url, count(*) AS errors
    FROM daily_logs
    WHERE status >= {{ error_status }}
    GROUP BY url
  