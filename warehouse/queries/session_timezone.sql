-- The time zone this connection buckets weeks in (the variable axiswatch_tz; NULL when unset).
SELECT getvariable('axiswatch_tz') AS tz;
