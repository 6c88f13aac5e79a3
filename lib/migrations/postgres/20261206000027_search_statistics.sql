-- A search's plan depends on how many tasks the planner expects to match, and
-- PostgreSQL estimates that by trying the pattern on the column's statistics
-- sample. With the default 101-value histogram a text matching 1 % of tasks
-- hits one value or two, so the estimate doubled from one ANALYZE to the next
-- and the plan flipped between the trigram index (500 rows read for 50,000
-- tasks) and a scan of every task (50,001). A thousand values give it ten hits
-- or so: the estimate, and the plan, hold.
alter table tasks alter column search_text set statistics 1000;
analyze tasks;
