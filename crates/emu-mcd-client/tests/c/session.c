/*
 * A whole MCD session in C against a live emu, through libemu_mcd_client.so and the
 * project's mcd_api.h: what an MCD tool does. Run by tests/c_session.rs.
 *
 *   session layout                         print each structure's size and alignment
 *   session run PORT BASE DATA RESET_PC    the session on the debug loop guest
 *
 * Exit status 0 when every check holds; otherwise the first failed check is printed.
 */
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcd_api.h"

#define LAYOUT(t) printf("%s %zu %zu\n", #t, sizeof(t), alignof(t))

static int layout(void) {
    LAYOUT(mcd_api_version_st);
    LAYOUT(mcd_impl_version_info_st);
    LAYOUT(mcd_error_info_st);
    LAYOUT(mcd_server_info_st);
    LAYOUT(mcd_server_st);
    LAYOUT(mcd_core_con_info_st);
    LAYOUT(mcd_core_st);
    LAYOUT(mcd_core_mode_info_st);
    LAYOUT(mcd_addr_st);
    LAYOUT(mcd_memspace_st);
    LAYOUT(mcd_memblock_st);
    LAYOUT(mcd_register_group_st);
    LAYOUT(mcd_register_info_st);
    LAYOUT(mcd_trig_info_st);
    LAYOUT(mcd_ctrig_info_st);
    LAYOUT(mcd_trig_simple_core_st);
    LAYOUT(mcd_trig_complex_core_st);
    LAYOUT(mcd_trig_trig_bus_st);
    LAYOUT(mcd_trig_counter_st);
    LAYOUT(mcd_trig_custom_st);
    LAYOUT(mcd_trig_state_st);
    LAYOUT(mcd_trig_set_state_st);
    LAYOUT(mcd_tx_st);
    LAYOUT(mcd_txlist_st);
    LAYOUT(mcd_core_state_st);
    LAYOUT(mcd_rst_info_st);
    LAYOUT(mcd_chl_st);
    LAYOUT(mcd_trace_info_st);
    LAYOUT(mcd_trace_state_st);
    return 0;
}

static const mcd_core_st *core;

/* Fails the session with the library's error text. */
static void die(const char *what, mcd_return_et r) {
    mcd_error_info_st e;
    mcd_qry_error_info_f(core, &e);
    fprintf(stderr, "FAIL %s: return %u, error 0x%x: %s\n", what, r, e.error_code, e.error_str);
    exit(1);
}

#define CALL(x)                                                                         \
    do {                                                                                \
        mcd_return_et r_ = (x);                                                         \
        if (r_ != MCD_RET_ACT_NONE) die(#x, r_);                                        \
    } while (0)

#define CHECK(c, ...)                                                                   \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "FAIL %s: ", #c);                                           \
            fprintf(stderr, __VA_ARGS__);                                               \
            fprintf(stderr, "\n");                                                      \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

static uint32_t regs_space, phys_space, logical_space;
static uint32_t pc_reg = UINT32_MAX, s0_reg = UINT32_MAX;
static uint32_t mcause_reg = UINT32_MAX, mepc_reg = UINT32_MAX;

static void transfer(uint32_t space, uint64_t addr, mcd_tx_access_type_et at, uint8_t *buf,
                     uint32_t n) {
    mcd_tx_st tx = {0};
    tx.addr.address = addr;
    tx.addr.mem_space_id = space;
    tx.access_type = at;
    tx.data = buf;
    tx.num_bytes = n;
    mcd_txlist_st list = {&tx, 1, 0};
    CALL(mcd_execute_txlist_f(core, &list));
    CHECK(list.num_tx_ok == 1 && tx.num_bytes_ok == n, "num_tx_ok %u, num_bytes_ok %u of %u",
          list.num_tx_ok, tx.num_bytes_ok, n);
}

static uint64_t read_reg(uint32_t reg) {
    uint8_t b[8] = {0};
    transfer(regs_space, reg, MCD_TX_AT_R, b, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static void write_reg(uint32_t reg, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    transfer(regs_space, reg, MCD_TX_AT_W, b, 8);
}

static mcd_core_state_st wait_debug(void) {
    mcd_core_state_st st;
    for (int i = 0; i < 200000; i++) {
        CALL(mcd_qry_state_f(core, &st));
        if (st.state == MCD_CORE_STATE_DEBUG) return st;
    }
    CHECK(0, "the core did not stop (state %u)", st.state);
    return st;
}

static uint32_t trigger(mcd_trig_type_et type, uint64_t addr) {
    mcd_trig_simple_core_st t = {0};
    t.struct_size = sizeof t;
    t.type = type;
    t.action = MCD_TRIG_ACTION_DBG_DEBUG;
    t.addr_start.address = addr;
    t.addr_start.mem_space_id = logical_space;
    uint32_t id = 0;
    CALL(mcd_create_trig_f(core, &t, &id));
    CHECK(id != 0, "no trigger id");
    return id;
}

static int session(unsigned port, uint64_t base, uint64_t data, uint64_t reset_pc) {
    mcd_api_version_st want = {1, 1, "emu test"};
    mcd_impl_version_info_st impl;
    CALL(mcd_initialize_f(&want, &impl));
    CHECK(strcmp(impl.vendor, "emu") == 0, "vendor %s", impl.vendor);
    mcd_api_version_st too_new = {1, 2, "emu test"};
    CHECK(mcd_initialize_f(&too_new, &impl) == MCD_RET_ACT_HANDLE_ERROR, "1.2 accepted");

    char config[128];
    snprintf(config, sizeof config, "McdHostName=\"127.0.0.1\" McdServerPort=%u", port);
    mcd_server_st *server = NULL;
    CALL(mcd_open_server_f("", config, &server));
    CHECK(server != NULL && strcmp(server->host, "127.0.0.1") == 0, "server host");
    char back[128];
    uint32_t back_len = sizeof back;
    CALL(mcd_qry_server_config_f(server, &back_len, back));
    CHECK(strcmp(back, config) == 0, "config string %s", back);
    /* A second open (a second connection) is refused with MCD_ERR_CONNECTION. */
    mcd_server_st *again = NULL;
    CHECK(mcd_open_server_f("", config, &again) == MCD_RET_ACT_HANDLE_ERROR, "second open");
    CHECK(again == NULL, "second open gave a server");
    mcd_error_info_st refused;
    mcd_qry_error_info_f(NULL, &refused);
    CHECK(refused.error_code == MCD_ERR_CONNECTION, "second open: error 0x%x (%s)",
          refused.error_code, refused.error_str);

    uint32_t n = 0;
    CALL(mcd_qry_servers_f("127.0.0.1", true, 0, &n, NULL));
    CHECK(n == 1, "%u servers", n);
    mcd_server_info_st si;
    CALL(mcd_qry_servers_f("127.0.0.1", true, 0, &n, &si));
    CHECK(strstr(si.server, "emu") != NULL, "server name %s", si.server);

    mcd_core_con_info_st sys, dev, cores[4];
    n = 1;
    CALL(mcd_qry_systems_f(0, &n, &sys));
    CHECK(n == 1 && strcmp(sys.system, "emu") == 0, "system %s", sys.system);
    n = 1;
    CALL(mcd_qry_devices_f(&sys, 0, &n, &dev));
    CHECK(n == 1 && dev.device_type != 0, "device type 0x%x", dev.device_type);
    n = 0;
    CALL(mcd_qry_cores_f(&dev, 0, &n, NULL));
    CHECK(n == 1, "%u cores", n);
    CALL(mcd_qry_cores_f(&dev, 0, &n, cores));
    CHECK(cores[0].core_type == 243, "core type %u", cores[0].core_type);
    CHECK(mcd_qry_cores_f(&dev, 5, &n, cores) == MCD_RET_ACT_HANDLE_ERROR, "start 5 accepted");
    mcd_error_info_st e;
    mcd_qry_error_info_f(NULL, &e);
    CHECK(e.error_code == MCD_ERR_PARAM, "error 0x%x", e.error_code);

    mcd_core_st *c = NULL;
    CALL(mcd_open_core_f(&cores[0], &c));
    core = c;
    CHECK(strcmp(core->core_con_info->core, cores[0].core) == 0, "core name");

    mcd_memspace_st spaces[8];
    n = 8;
    CALL(mcd_qry_mem_spaces_f(core, 0, &n, spaces));
    for (uint32_t i = 0; i < n; i++) {
        if (spaces[i].mem_type & MCD_MEM_SPACE_IS_REGISTERS) regs_space = spaces[i].mem_space_id;
        if (spaces[i].mem_type & MCD_MEM_SPACE_IS_PHYSICAL) phys_space = spaces[i].mem_space_id;
        if (spaces[i].mem_type & MCD_MEM_SPACE_IS_LOGICAL) logical_space = spaces[i].mem_space_id;
    }
    CHECK(regs_space && phys_space && logical_space, "spaces %u %u %u", regs_space, phys_space,
          logical_space);

    mcd_register_group_st groups[8];
    n = 8;
    CALL(mcd_qry_reg_groups_f(core, 0, &n, groups));
    CHECK(n >= 3, "%u register groups", n);
    uint32_t nregs = 0;
    CALL(mcd_qry_reg_map_f(core, 0, 0, &nregs, NULL));
    CHECK(nregs > 64 && nregs < 1000, "%u registers", nregs);
    mcd_register_info_st *regs = calloc(nregs, sizeof *regs);
    CALL(mcd_qry_reg_map_f(core, 0, 0, &nregs, regs));
    int pcs = 0;
    for (uint32_t i = 0; i < nregs; i++) {
        if (strcmp(regs[i].regname, "pc") == 0) pcs++, pc_reg = (uint32_t)regs[i].addr.address;
        if (strcmp(regs[i].regname, "s0") == 0 || strcmp(regs[i].regname, "fp") == 0)
            s0_reg = (uint32_t)regs[i].addr.address;
        if (strcmp(regs[i].regname, "mcause") == 0) mcause_reg = (uint32_t)regs[i].addr.address;
        if (strcmp(regs[i].regname, "mepc") == 0) mepc_reg = (uint32_t)regs[i].addr.address;
    }
    free(regs);
    CHECK(pcs == 1 && s0_reg != UINT32_MAX, "%d registers named pc", pcs);
    CHECK(mcause_reg != UINT32_MAX && mepc_reg != UINT32_MAX, "no mcause or mepc");

    mcd_core_state_st st;
    CALL(mcd_qry_state_f(core, &st));
    CHECK(st.state == MCD_CORE_STATE_DEBUG, "state %u at the start", st.state);
    uint64_t pc = read_reg(pc_reg);
    CHECK(pc == reset_pc, "pc 0x%" PRIx64 " at the start", pc);

    /* Memory: write, read back, and write-then-verify in one list. */
    uint8_t pattern[64], got[64];
    for (int i = 0; i < 64; i++) pattern[i] = (uint8_t)(i * 7 + 1);
    transfer(phys_space, data + 0x100, MCD_TX_AT_W, pattern, 64);
    memset(got, 0, sizeof got);
    transfer(logical_space, data + 0x100, MCD_TX_AT_R, got, 64);
    CHECK(memcmp(got, pattern, 64) == 0, "memory read back");
    uint8_t big[4096];
    transfer(phys_space, base, MCD_TX_AT_R, big, sizeof big);
    CHECK(big[0] != 0 || big[1] != 0, "no code at the program's base");

    /* A failing transaction: an unknown memory space. */
    uint8_t b4[4];
    mcd_tx_st bad = {0};
    bad.addr.mem_space_id = 99;
    bad.access_type = MCD_TX_AT_R;
    bad.data = b4;
    bad.num_bytes = 4;
    mcd_txlist_st bl = {&bad, 1, 0};
    CHECK(mcd_execute_txlist_f(core, &bl) == MCD_RET_ACT_HANDLE_ERROR, "space 99 accepted");
    mcd_qry_error_info_f(core, &e);
    CHECK(e.error_code == MCD_ERR_MEM_SPACE_ID && strstr(e.error_str, "99"), "error 0x%x %s",
          e.error_code, e.error_str);

    /* A list that fails part way reports what it did. */
    uint8_t w4[4] = {9, 8, 7, 6};
    mcd_tx_st two[2];
    memset(two, 0, sizeof two);
    two[0].addr.address = data + 0x200;
    two[0].addr.mem_space_id = phys_space;
    two[0].access_type = MCD_TX_AT_W;
    two[0].data = w4;
    two[0].num_bytes = 4;
    two[1] = bad;
    mcd_txlist_st tl = {two, 2, 0};
    CHECK(mcd_execute_txlist_f(core, &tl) == MCD_RET_ACT_HANDLE_ERROR, "bad list accepted");
    CHECK(tl.num_tx_ok == 1 && two[0].num_bytes_ok == 4 && two[1].num_bytes_ok == 0,
          "partial list: %u done, %u and %u bytes", tl.num_tx_ok, two[0].num_bytes_ok,
          two[1].num_bytes_ok);

    /* The memory map. */
    n = 0;
    CALL(mcd_qry_mem_blocks_f(core, phys_space, 0, &n, NULL));
    CHECK(n >= 2 && n <= 16, "%u memory blocks", n);
    mcd_memblock_st blocks[16];
    CALL(mcd_qry_mem_blocks_f(core, phys_space, 0, &n, blocks));
    int ram = 0;
    for (uint32_t i = 0; i < n; i++)
        if (blocks[i].start_addr <= base && base <= blocks[i].end_addr &&
            strcmp(blocks[i].mem_block_name, "ram") == 0)
            ram = 1;
    CHECK(ram, "no RAM block holds the program");

    /* Text commands and time. */
    char out[256];
    CALL(mcd_execute_command_f(core, "harts", sizeof out, out));
    CHECK(strcmp(out, "hart 0: halted\n") == 0, "harts: %s", out);
    CHECK(mcd_execute_command_f(core, "nonsense", sizeof out, out) == MCD_RET_ACT_HANDLE_ERROR,
          "nonsense accepted");
    uint64_t t0 = 0, t1 = 0;
    CALL(mcd_qry_current_time_f(core, &t0));

    /* A breakpoint at the loop's head and a watchpoint on its store. */
    mcd_trig_info_st ti;
    CALL(mcd_qry_trig_info_f(core, &ti));
    CHECK(ti.type & MCD_TRIG_TYPE_IP, "trigger types 0x%x", ti.type);
    uint64_t head = base + 12;
    uint32_t bp = trigger(MCD_TRIG_TYPE_IP, head);
    uint32_t wp = trigger(MCD_TRIG_TYPE_WRITE, data);
    mcd_trig_simple_core_st q;
    CHECK(mcd_qry_trig_f(core, bp, 8, &q) == MCD_RET_ACT_HANDLE_ERROR, "short buffer accepted");
    CALL(mcd_qry_trig_f(core, bp, sizeof q, &q));
    CHECK(q.type == MCD_TRIG_TYPE_IP && q.addr_start.address == head, "trigger read back");
    CALL(mcd_activate_trig_set_f(core));

    CALL(mcd_run_f(core, false));
    st = wait_debug();
    CHECK(st.trig_id == bp, "stopped by trigger %u, not the breakpoint %u (%s)", st.trig_id, bp,
          st.stop_str);
    pc = read_reg(pc_reg);
    CHECK(pc == head, "pc 0x%" PRIx64 " at the breakpoint", pc);

    /* A step from the breakpoint executes the instruction there. */
    CALL(mcd_qry_current_time_f(core, &t1));
    CHECK(t1 > t0, "time %" PRIu64 " -> %" PRIu64, t0, t1);
    CALL(mcd_step_f(core, false, MCD_CORE_STEP_TYPE_INSTR, 1));
    pc = read_reg(pc_reg);
    CHECK(pc == head + 4, "pc 0x%" PRIx64 " after a step", pc);

    CALL(mcd_run_f(core, false));
    st = wait_debug();
    CHECK(st.trig_id == wp, "stopped by trigger %u, not the watchpoint %u", st.trig_id, wp);
    pc = read_reg(pc_reg);
    CHECK(pc == head + 8, "pc 0x%" PRIx64 " after the store", pc);
    CHECK(read_reg(s0_reg) == 1, "s0 %" PRIu64, read_reg(s0_reg));
    mcd_trig_state_st ts;
    CALL(mcd_qry_trig_state_f(core, wp, &ts));
    CHECK(ts.captured && ts.captured_valid, "watchpoint not captured");

    uint32_t ids[8];
    n = 8;
    CALL(mcd_qry_trig_set_f(core, 0, &n, ids));
    CHECK(n == 2, "%u triggers in the set", n);
    CALL(mcd_remove_trig_f(core, bp));
    CALL(mcd_remove_trig_set_f(core));
    n = 0;
    CALL(mcd_qry_trig_set_f(core, 0, &n, NULL));
    CHECK(n == 0, "%u triggers left", n);

    /* Run free, stop, and a multi-step. */
    CALL(mcd_run_f(core, false));
    CALL(mcd_qry_state_f(core, &st));
    CALL(mcd_stop_f(core, false));
    st = wait_debug();
    uint64_t before = read_reg(s0_reg);
    CALL(mcd_step_f(core, false, MCD_CORE_STEP_TYPE_INSTR, 50));
    uint64_t after = read_reg(s0_reg);
    CHECK(after - before == 10, "s0 went from %" PRIu64 " to %" PRIu64 " in 50 steps", before,
          after);

    /* Run until a time 12,345 ns on (one instruction a nanosecond), then a counter. */
    uint64_t t2 = 0, t3 = 0;
    CALL(mcd_qry_current_time_f(core, &t2));
    CALL(mcd_run_until_f(core, false, false, 12345000));
    st = wait_debug();
    CHECK(strcmp(st.stop_str, "run-until time reached") == 0, "run-until: %s", st.stop_str);
    CALL(mcd_qry_current_time_f(core, &t3));
    CHECK(t3 - t2 == 12345000, "ran %" PRIu64 " ps", t3 - t2);
    mcd_trig_counter_st ct = {0};
    ct.struct_size = sizeof ct;
    ct.type = MCD_TRIG_TYPE_COUNTER;
    ct.action = MCD_TRIG_ACTION_DBG_DEBUG;
    ct.count_value = 25;
    uint32_t cid = 0;
    CALL(mcd_create_trig_f(core, &ct, &cid));
    CALL(mcd_qry_trig_state_f(core, cid, &ts));
    CHECK(ts.count_valid && ts.count_value == 25, "counter at %" PRIu64, ts.count_value);
    before = read_reg(s0_reg);
    CALL(mcd_run_f(core, false));
    st = wait_debug();
    CHECK(st.trig_id == cid, "stopped by %u, not the counter %u", st.trig_id, cid);
    CHECK(read_reg(s0_reg) - before == 5, "25 instructions are 5 iterations");
    CALL(mcd_remove_trig_f(core, cid));
    ct.count_value = 20000;
    CHECK(mcd_create_trig_f(core, &ct, &cid) == MCD_RET_ACT_HANDLE_ERROR, "20000 accepted");

    /* Custom triggers: trap catches. Mask 0 asks for the faults, and the structure comes
       back with the mask it stands for. Zero-filled RAM is an illegal instruction. */
    n = 0;
    CALL(mcd_qry_ctrigs_f(core, 0, &n, NULL));
    CHECK(n == 2, "%u custom triggers", n);
    mcd_ctrig_info_st ci[2];
    CALL(mcd_qry_ctrigs_f(core, 0, &n, ci));
    CHECK(n == 2 && ci[0].ctrig_id == 1 && ci[1].ctrig_id == 2, "custom trigger ids");
    CHECK(strncmp(ci[0].info_str, "exception catch", 15) == 0, "ctrig 1: %s", ci[0].info_str);
    CHECK(strncmp(ci[1].info_str, "interrupt catch", 15) == 0, "ctrig 2: %s", ci[1].info_str);
    CHECK(ti.type & MCD_TRIG_TYPE_CUSTOM, "trigger types 0x%x", ti.type);
    mcd_trig_custom_st cu = {0};
    cu.struct_size = sizeof cu;
    cu.type = MCD_TRIG_TYPE_CUSTOM;
    cu.action = MCD_TRIG_ACTION_DBG_DEBUG;
    cu.ctrig_id = 1;
    uint32_t xid = 0;
    CALL(mcd_create_trig_f(core, &cu, &xid));
    CHECK(cu.modified && cu.ctrig_id == 1 && cu.ctrig_args[0] == 0xb0f7 && cu.ctrig_args[1] == 0,
          "mask 0 came back as 0x%x:0x%x (modified %d)", cu.ctrig_args[1], cu.ctrig_args[0],
          cu.modified);
    mcd_trig_custom_st cq = {0};
    CHECK(mcd_qry_trig_f(core, xid, sizeof cq - 1, &cq) == MCD_RET_ACT_HANDLE_ERROR,
          "short buffer accepted");
    CALL(mcd_qry_trig_f(core, xid, sizeof cq, &cq));
    CHECK(cq.struct_size == sizeof cq && cq.type == MCD_TRIG_TYPE_CUSTOM && cq.ctrig_id == 1 &&
              cq.ctrig_args[0] == 0xb0f7,
          "custom trigger read back");
    uint64_t bad_pc = data + 0x400;
    write_reg(pc_reg, bad_pc);
    CALL(mcd_run_f(core, false));
    st = wait_debug();
    CHECK(st.trig_id == xid, "stopped by %u, not the catch %u (%s)", st.trig_id, xid, st.stop_str);
    CHECK(strncmp(st.stop_str, "trap caught", 11) == 0, "stop: %s", st.stop_str);
    CHECK(read_reg(mcause_reg) == 2, "mcause %" PRIu64, read_reg(mcause_reg));
    CHECK(read_reg(mepc_reg) == bad_pc, "mepc 0x%" PRIx64, read_reg(mepc_reg));
    CALL(mcd_remove_trig_f(core, xid));
    cu.ctrig_id = 9;
    CHECK(mcd_create_trig_f(core, &cu, &xid) == MCD_RET_ACT_HANDLE_ERROR, "ctrig 9 accepted");

    /* Reset with halt lands in Debug Mode at the reset vector. */
    uint32_t classes = 0;
    CALL(mcd_qry_rst_classes_f(core, &classes));
    CHECK(classes & 1, "reset classes 0x%x", classes);
    mcd_rst_info_st ri;
    CALL(mcd_qry_rst_class_info_f(core, 0, &ri));
    CALL(mcd_rst_f(core, 1, true));
    CALL(mcd_qry_state_f(core, &st));
    CHECK(st.state == MCD_CORE_STATE_DEBUG, "state %u after reset", st.state);
    pc = read_reg(pc_reg);
    CHECK(pc == reset_pc, "pc 0x%" PRIx64 " after reset", pc);

    uint32_t payload = 0;
    CALL(mcd_qry_max_payload_size_f(core, &payload));
    CHECK(payload >= 4096, "max payload %u", payload);

    CALL(mcd_close_core_f(core));
    CHECK(mcd_run_f(core, false) == MCD_RET_ACT_HANDLE_ERROR, "a closed core runs");
    core = NULL;
    CALL(mcd_close_server_f(server));
    mcd_exit_f();
    printf("session ok\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "layout") == 0) return layout();
    if (argc == 6 && strcmp(argv[1], "run") == 0)
        return session((unsigned)strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
                       strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
    fprintf(stderr, "usage: session layout | session run PORT BASE DATA RESET_PC\n");
    return 2;
}
