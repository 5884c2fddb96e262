
    SELECT customer, sum(amount) AS total
    FROM orders
    GROUP BY customer
  