-- Share of error hits per url for one day (daily_url_error_rates in pipeline.dbuild).
-- Both inputs are partitioned by day, so this query sees the same day of each.
-- Every url with hits gets a row; a url without errors that day has errors = 0.
SELECT u.url,
       u.hits,
       coalesce(e.errors, 0) AS errors,
       round(coalesce(e.errors, 0) * 1.0 / u.hits, 4) AS error_rate
FROM daily_urls AS u
LEFT JOIN daily_url_errors AS e ON e.url = u.url
