-- How many articles the warehouse holds (bench figures).
SELECT count(*) FROM articles
