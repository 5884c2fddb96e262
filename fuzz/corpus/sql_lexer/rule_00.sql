
    SELECT l.host,
           l.time,
           l.method,
           l.url,
           l.protocol,
           l.status,
           s.description AS status_description,
           l.bytes
    FROM raw_logs AS l
    LEFT JOIN http_status AS s ON s.status = l.status
    WHERE substr(l.time, 1, 10) = {{ day }}
  