# Included by bench/bench_explain.sh with the main Makefile: builds bench/explain_bench.c
# against the library objects (kept out of the Makefile so it stays untouched).
$(BUILD)/bench/explain_bench: bench/explain_bench.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS)
