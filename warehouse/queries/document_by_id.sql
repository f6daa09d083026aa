-- Whether a fetched page is already stored (a cheaper check than INSERT … ON CONFLICT).
SELECT 1 FROM documents WHERE document_id = $document_id;
