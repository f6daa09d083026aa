-- title: page failures by class
SELECT last_error_class AS error_class, count(*) AS entries FROM entries
WHERE last_error_class IS NOT NULL GROUP BY ALL ORDER BY entries DESC;
