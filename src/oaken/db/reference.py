"""Reference data seeded by migrations: positions, the sales team, the chart of accounts."""

from __future__ import annotations

from datetime import date

#: (position_id, title, department)
POSITIONS = [
    (1, "Sales Representative", "Sales"),
    (2, "Regional Sales Manager", "Sales"),
    (3, "VP of Sales", "Sales"),
    (4, "Shipping Coordinator", "Operations"),
    (5, "Staff Accountant", "Finance"),
]

#: (employee_id, first_name, last_name, position_id, hired_on): the sales team
EMPLOYEES = [
    (1, "Margaret", "Hollis", 3, date(2012, 3, 1)),
    (2, "Daniel", "Okafor", 2, date(2014, 6, 16)),
    (3, "Priya", "Raman", 2, date(2016, 1, 11)),
    (4, "Tom", "Vander Molen", 1, date(2015, 9, 8)),
    (5, "Alicia", "Brandt", 1, date(2017, 4, 3)),
    (6, "Jorge", "Salinas", 1, date(2018, 2, 19)),
    (7, "Kathleen", "Nguyen", 1, date(2018, 10, 1)),
    (8, "Samuel", "Lindqvist", 1, date(2019, 5, 13)),
    (9, "Rachel", "Kowalski", 1, date(2020, 8, 24)),
    (10, "Ben", "Whitfield", 1, date(2021, 3, 15)),
    (11, "Hannah", "Schroeder", 1, date(2022, 7, 5)),
    (12, "Marcus", "Ellery", 1, date(2023, 1, 9)),
]

#: (account_code, account_name, account_type)
ACCOUNTS = [
    ("1100", "Accounts Receivable", "asset"),
    ("1200", "Inventory", "asset"),
    ("2100", "Freight Payable", "liability"),
    ("4000", "Sales Revenue", "revenue"),
    ("5000", "Cost of Goods Sold", "expense"),
    ("5100", "Freight Expense", "expense"),
]

RECEIVABLE, INVENTORY, FREIGHT_PAYABLE, REVENUE, COGS, FREIGHT_EXPENSE = (
    code for code, _, _ in ACCOUNTS
)
