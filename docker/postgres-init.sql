-- Run by the postgres image on its first start (docker-entrypoint-initdb.d): the DuckLake catalog
-- database beside Prefect's. DuckLake creates its own catalog tables in it on first attach.
CREATE DATABASE lake;
