# expect: empty
# stage: check
   
	
   
