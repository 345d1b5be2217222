"""Month-end Closed-Won-versus-Invoiced reconciliation and invoice aging."""
