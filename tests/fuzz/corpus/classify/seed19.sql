-- comment
SELECT 1