-- title: entries by state
SELECT state, count(*) AS entries FROM entries GROUP BY ALL ORDER BY entries DESC;
