package bitrixtest

type listStore struct{}

func newListStore() *listStore { return &listStore{} }
func registerLists()           {}
