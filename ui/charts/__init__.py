"""What the pages draw: one module per page (named after its address) and the shared
figure helpers (`shared`) and on-screen words (`words`)."""
