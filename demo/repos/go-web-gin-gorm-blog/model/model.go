package model

import (
	"fmt"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jinzhu/gorm"
)

var DB *gorm.DB

type Article struct {
	gorm.Model
	Title   string
	Content string
}

// Setup opens the database; any error stops the program.
func Setup() {
	var err error
	DB, err = gorm.Open("mysql", "root:root@/blog?charset=utf8&parseTime=True")
	if err != nil {
		panic(fmt.Sprintf("open database: %v", err))
	}
	DB.AutoMigrate(&Article{})
}

func Find(id string) (*Article, error) {
	var a Article
	if err := DB.First(&a, id).Error; err != nil {
		return nil, fmt.Errorf("find article %s: %v", id, err)
	}
	return &a, nil
}
