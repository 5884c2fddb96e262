
    SELECT count(*) AS orders, sum(amount) AS revenue
    FROM orders
    WHERE amount > {{ min_amount }}
  