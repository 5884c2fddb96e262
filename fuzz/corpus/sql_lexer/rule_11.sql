
    SELECT sum(revenue) AS revenue_7d FROM daily_revenue
  